"""The ``linear`` classifier backend: hashed TF-IDF features, a linear SVM, calibrated probabilities.

Training (:meth:`LinearTextClassifier.fit`):

1. syllable and character n-gram counts (:mod:`nlp.features`), for short texts with or
   without the cue tokens of the civic lexicon (:mod:`nlp.lexicon`), sublinear TF-IDF
   (:meth:`LinearTextClassifier.designs` builds the design matrix: the one recipe, which
   :func:`nlp.retrain.choose_weighting` uses too; counts computed once may be passed to
   ``fit`` so a retraining featurises its texts once);
2. a class-balanced ``LinearSVC``, fit on the columns the training rows use
   (:func:`used_columns`: the same weights as on every hashed column, in about half the time);
3. out-of-fold SVM scores (k-fold on the training data only) fit a multinomial logistic
   calibrator, so ``predict_proba`` returns probabilities that sum to 1;
4. per-class offsets on the calibrated log-probabilities, chosen on the same
   out-of-fold predictions to maximise macro-F1 (rare classes such as "hate" are not
   drowned by the majority). No evaluation data is ever looked at.

Long documents (mean length over 1,500 characters, e.g. news articles; see
:meth:`LinearTextClassifier.choose_features`) take a variant of the same path: syllable
1-2-grams only (no character n-grams) in 2**22 hashed columns; n-grams found in a single
training document are dropped (zero IDF), as they cannot generalise; and ``C`` is chosen
among ``LONG_C_FACTORS`` x ``C`` by the out-of-fold macro-F1 of step 4, since long texts
want less regularisation than posts. Short texts choose ``C`` among
``SHORT_C_FACTORS`` x ``C`` and whether to use the lexicon cue tokens the same way (without
them first; it wins ties), keeping every column.

The fitted state is saved with joblib (coefficients as a sparse matrix, so models
trained on a few thousand sentences stay small).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse

from core.errors import NlpError
from nlp.features import Counts, FeatureConfig, HashedFeaturizer, fit_idf, tfidf

log = logging.getLogger(__name__)

MODEL_FILE = "linear.joblib"
LONG_MIN_DF = 2  # long documents: minimum training document frequency of a syllable n-gram
LONG_C_FACTORS = (2, 8)  # long documents: C candidates as multiples of ``C`` (a coarse grid)
SHORT_C_FACTORS = (0.5, 1, 2)  # posts and passages: C candidates as multiples of ``C``
# A label is "unsure" when its top calibrated probability is below ``unsure_below_``:
# the highest threshold (on UNSURE_GRID) under which the out-of-fold labels of the
# training data were right at most UNSURE_ACCURACY of the time (at least
# UNSURE_MIN_SHARE of the rows below it), i.e. labels given with that little
# confidence were wrong about as often as right.
UNSURE_ACCURACY = 0.6
UNSURE_MIN_SHARE = 0.01
UNSURE_GRID = tuple(round(0.30 + 0.02 * i, 2) for i in range(34))  # 0.30 .. 0.96


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _macro_f1(y: np.ndarray, pred: np.ndarray, k: int, weight: np.ndarray | None = None) -> float:
    """Macro-F1 over ``k`` classes; ``weight`` counts each row that many times."""
    w = np.ones(len(y)) if weight is None else weight
    f1s = []
    for c in range(k):
        tp = np.sum(w * ((pred == c) & (y == c)))
        fp = np.sum(w * ((pred == c) & (y != c)))
        fn = np.sum(w * ((pred != c) & (y == c)))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


@dataclass(frozen=True)
class Design:
    """A TF-IDF design matrix and the IDF weights it was made with (see
    :meth:`LinearTextClassifier.designs`)."""

    idf_word: np.ndarray  # IDF of the syllable block (with the cue tokens when the lexicon is on)
    idf_char: np.ndarray  # IDF of the character block
    x: sparse.csr_matrix  # rows: the labelled texts; columns: syllable block, then character block


def used_columns(x: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The columns of ``x`` that hold an entry (in order), and ``x`` restricted to them.

    liblinear's time grows with the width of the matrix (its weight vectors span every
    column), but a column no training row uses keeps weight 0 and never changes a score:
    training on the used columns gives the same weights on them, bit for bit (the column
    order is kept), in about half the time with 2**21 hashed columns and a few thousand
    posts. Rows scored later must be restricted to the same columns. A matrix without
    entries keeps its first column (liblinear needs one).
    """
    cols = np.unique(x.indices) if x.nnz else np.arange(min(1, x.shape[1]))
    return cols, x[:, cols]


class LinearTextClassifier:
    """A calibrated linear text classifier over :class:`~nlp.features.HashedFeaturizer` counts.

    Learned attributes (after :meth:`fit` or :meth:`load`): ``labels_`` (class names in
    column order), ``idf_word_``/``idf_char_``, ``coef_`` (sparse, classes × features),
    ``intercept_``, ``calib_coef_``/``calib_intercept_``, ``offsets_``, ``C_`` (chosen out
    of fold), ``cv_macro_f1_`` (its out-of-fold macro-F1) and ``unsure_below_`` (a label
    whose top probability is below it is unsure; see UNSURE_ACCURACY).
    """

    def __init__(self, features: FeatureConfig | None = None, *, C: float = 0.5, folds: int = 3,
                 tune_offsets: bool = True, seed: int = 13,
                 c_factors: Sequence[float] | None = None):
        self.features = features  # None: chosen from the training texts in fit()
        self.C = C
        # candidates for C as multiples of ``C``; None: SHORT_C_FACTORS or LONG_C_FACTORS
        self.c_factors = tuple(c_factors) if c_factors else None
        self.folds = folds
        self.tune_offsets = tune_offsets
        self.seed = seed
        self.featurizer = HashedFeaturizer(features) if features is not None else None
        self._search_lexicon = features is None  # chosen out of fold in fit() unless given

    @staticmethod
    def choose_features(texts: Sequence[str]) -> FeatureConfig:
        """Short texts (posts, comments): syllable 1-2-grams plus character 1-5-grams.
        Long documents (mean over 1,500 characters, e.g. news articles): syllable 1-2-grams
        in 2**22 columns only, as character n-grams add little there and cost much memory.
        Measured on VNTC without gain: syllable trigrams, plain TF, NB-SVM (log-count ratio
        scaling), stacking naive Bayes or a per-class syllable bigram language model with
        the SVM, averaged SGD (modified Huber), dropping the undiacritised copy, digits
        folded to one token."""
        mean = sum(len(t) for t in texts) / max(1, len(texts))
        if mean > 1500:
            return FeatureConfig(word_ngrams=2, char_min=1, char_max=0, word_bits=22)
        return FeatureConfig(lexicon=True)

    # ---- features -------------------------------------------------------------------
    def counts(self, texts: Sequence[str]) -> Counts:
        return self.featurizer.transform(texts)

    def _words(self, counts: tuple[sparse.csr_matrix, sparse.csr_matrix],
               lexicon: bool | None = None) -> sparse.csr_matrix:
        """The syllable block, plus the lexicon cue tokens when the model uses them."""
        use = self.features.lexicon if lexicon is None else lexicon
        if use and isinstance(counts, Counts):
            return counts.words_with_cues(self.featurizer)
        return counts[0]

    def designs(self, counts: Counts, n: int, lexicons: Sequence[bool] | None = None
                ) -> dict[bool, Design]:
        """The TF-IDF design matrix of the first ``n`` rows of ``counts``, for each lexicon
        setting in ``lexicons`` (default: the model's own), keyed by it.

        IDF weights are fit on every row of ``counts`` (rows past ``n`` are unlabelled texts
        that join the IDF statistics only); the syllable block holds the lexicon cue tokens
        when the setting is on. Long documents (``char_max < char_min``) drop syllable
        n-grams found in fewer than ``LONG_MIN_DF`` documents (zero IDF): they cannot
        generalise, and on VNTC dropping them halves the columns the model keeps at no cost
        in accuracy. The character block is weighted once, shared by every setting.
        """
        long_docs = self.features.char_max < self.features.char_min
        min_df = LONG_MIN_DF if long_docs else 1
        idf_char = fit_idf(counts[1])
        xc = tfidf(counts[1][:n], idf_char)
        out = {}
        for lex in [self.features.lexicon] if lexicons is None else lexicons:
            words = self._words(counts, lex)
            idf_word = fit_idf(words, min_df=min_df)
            out[lex] = Design(idf_word, idf_char,
                              sparse.hstack([tfidf(words[:n], idf_word), xc], format="csr"))
        return out

    def _check_counts(self, counts: Counts, texts: list[str]) -> None:
        """Refuse precomputed counts that are not this model's featurisation of ``texts``."""
        same = (isinstance(counts, Counts) and list(counts.texts) == texts
                and counts[0].shape == (len(texts), self.featurizer.n_word)
                and counts[1].shape == (len(texts), self.featurizer.n_char))
        if not same:
            raise NlpError("the precomputed counts are not those of the training texts",
                           hint="featurise texts + idf_texts, in that order, with this model's "
                                "features, or pass no counts")

    # ---- training -------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str],
            idf_texts: Sequence[str] = (), sample_weight: Sequence[float] | None = None,
            counts: Counts | None = None) -> LinearTextClassifier:
        """Train on ``texts`` and ``labels``; ``idf_texts`` (unlabelled) join ``texts`` in
        the IDF statistics only. ``sample_weight`` counts a row that many times in the SVM's
        loss (real posts corrected by operators weigh more than corpus sentences; see
        :mod:`nlp.retrain`). The calibrator and the offsets are fit unweighted: a row's
        out-of-fold score comes from a model that never saw it, so weighting it there would
        pull the calibration towards the few heavy rows the final model fits anyway.

        ``counts``: :meth:`counts` of ``texts + idf_texts`` (in that order) computed earlier
        by a featurizer of this model's ``features`` (which must then be given), e.g. for
        :func:`nlp.retrain.choose_weighting`, so they are not computed again; the model is the
        same as without them. Counts of other texts or another width raise
        :class:`~core.errors.NlpError`."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        if len(texts) != len(labels):
            raise NlpError("texts and labels differ in length")
        if counts is not None and self.features is None:
            raise NlpError("precomputed counts need the features they were computed with",
                           hint="give LinearTextClassifier its FeatureConfig, or pass no counts")
        self.labels_ = sorted({str(y) for y in labels})
        if len(self.labels_) < 2:
            raise NlpError(f"training data has only one label ({self.labels_})",
                           hint="give at least two classes")
        if self.features is None:
            self.features = self.choose_features(texts)
            self.featurizer = HashedFeaturizer(self.features)
            log.info("features: %s", self.features)
        index = {lab: i for i, lab in enumerate(self.labels_)}
        y = np.array([index[str(lab)] for lab in labels])
        k = len(self.labels_)
        n = len(texts)
        weight = None
        if sample_weight is not None:
            weight = np.asarray(sample_weight, dtype=np.float64)
            if weight.shape != (n,) or not np.all(np.isfinite(weight)) or np.any(weight <= 0):
                raise NlpError("sample_weight must hold one positive finite weight per text")
        every = list(texts) + list(idf_texts)
        if counts is None:
            counts = self.counts(every)
        else:
            self._check_counts(counts, every)
        long_docs = self.features.char_max < self.features.char_min
        # short texts: with and without the lexicon cue tokens (when the features were not
        # given), compared out of fold like C; without comes first and wins ties
        lexicons = ([False, True] if self._search_lexicon and not long_docs
                    else [self.features.lexicon])
        designs = self.designs(counts, n, lexicons)
        self.idf_char_ = designs[lexicons[0]].idf_char

        # long documents are less regularised (measured on VNTC); several candidates are
        # compared on out-of-fold macro-F1 and the best is kept
        candidates = [(lex, self.C * f) for lex in lexicons
                      for f in (self.c_factors or (LONG_C_FACTORS if long_docs else SHORT_C_FACTORS))]
        min_class = int(np.bincount(y, minlength=k).min())
        folds = min(self.folds, min_class)
        lex_value, c_value = candidates[0]
        # the same weights, faster (see used_columns); the final fit reuses its setting's
        narrow = {lex: used_columns(designs[lex].x) for lex in lexicons}
        if folds >= 2:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
            splits = list(splitter.split(np.zeros(len(y)), y))
            best = None
            for lex, cand in candidates:
                x = narrow[lex][1]
                oof = np.zeros((len(y), k), dtype=np.float64)
                for i, (tr, te) in enumerate(splits):
                    log.info("lexicon=%s C=%g: fold %d/%d", lex, cand, i + 1, folds)
                    model = LinearSVC(C=cand, class_weight="balanced", max_iter=5000,
                                      random_state=self.seed).fit(
                        x[tr], y[tr], sample_weight=None if weight is None else weight[tr])
                    oof[te] = self._scores_of(model.decision_function(x[te]), k)
                calib = LogisticRegression(C=10.0, max_iter=1000).fit(oof, y)
                coef, intercept = calib.coef_.astype(np.float64), calib.intercept_.astype(np.float64)
                if k == 2 and coef.shape[0] == 1:  # binary LR -> two columns
                    coef = np.vstack([-coef / 2, coef / 2])
                    intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
                logp = np.log(_softmax(oof @ coef.T + intercept) + 1e-12)
                offsets = self._tune(logp, y, k) if self.tune_offsets else np.zeros(k)
                score = _macro_f1(y, np.argmax(logp + offsets, axis=1), k)
                log.info("lexicon=%s C=%g: out-of-fold macro-F1 %.4f", lex, cand, score)
                if best is None or score > best[0] + 1e-4:
                    best = (score, (lex, cand), coef, intercept, offsets, oof)
            self.cv_macro_f1_ = best[0]
            (lex_value, c_value), self.calib_coef_, self.calib_intercept_, self.offsets_, oof = best[1:]
            self.unsure_below_ = self._unsure_threshold(oof, y, k)
        else:
            log.warning("too few examples per class for calibration folds; using scaled scores")
            self.calib_coef_ = np.eye(k) * 3.0
            self.calib_intercept_ = np.zeros(k)
            self.offsets_ = np.zeros(k)
            self.cv_macro_f1_ = None
            self.unsure_below_ = 1.0 / k
        self.C_ = c_value
        self.features = replace(self.features, lexicon=lex_value)
        self.featurizer = HashedFeaturizer(self.features)
        self.idf_word_ = designs[lex_value].idf_word
        width = designs[lex_value].x.shape[1]
        cols, x = narrow[lex_value]
        log.info("chosen: lexicon=%s, C=%g", lex_value, c_value)

        def svm() -> LinearSVC:
            # a fixed seed: the solver shuffles, and the same data must give the same model
            return LinearSVC(C=c_value, class_weight="balanced", max_iter=5000,
                             random_state=self.seed)

        log.info("fitting the final model on %d examples", len(y))
        final = svm().fit(x, y, sample_weight=weight)
        coef = np.zeros((final.coef_.shape[0], width), dtype=np.float32)
        coef[:, cols] = final.coef_  # unused columns keep weight 0, as a full-width fit leaves them
        intercept = final.intercept_.astype(np.float64)
        if k == 2:
            coef = np.vstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]])
        self.coef_ = sparse.csr_matrix(coef)
        self.coef_.eliminate_zeros()
        self.intercept_ = intercept
        return self

    @staticmethod
    def _scores_of(decision: np.ndarray, k: int) -> np.ndarray:
        if decision.ndim == 1 or k == 2:
            d = decision.reshape(-1)
            return np.stack([-d, d], axis=1)
        return decision

    def _unsure_threshold(self, oof: np.ndarray, y: np.ndarray, k: int) -> float:
        """The top-probability threshold below which a label is unsure (see UNSURE_ACCURACY)."""
        proba = self._calibrate(oof)
        top = proba.max(axis=1)
        right = np.argmax(np.log(proba + 1e-12) + self.offsets_, axis=1) == y
        threshold = 1.0 / k
        for t in UNSURE_GRID:
            below = top < t
            if below.mean() >= UNSURE_MIN_SHARE and right[below].mean() <= UNSURE_ACCURACY:
                threshold = t
        log.info("unsure below a top probability of %.2f (%.1f %% of out-of-fold labels)",
                 threshold, 100 * float((top < threshold).mean()))
        return float(threshold)

    @staticmethod
    def _tune(logp: np.ndarray, y: np.ndarray, k: int, weight: np.ndarray | None = None) -> np.ndarray:
        """Coordinate ascent on per-class offsets for macro-F1 (out-of-fold predictions)."""
        offsets = np.zeros(k)
        best = _macro_f1(y, np.argmax(logp, axis=1), k, weight)
        grid = np.linspace(-2.0, 2.0, 41)
        for _ in range(3):
            improved = False
            for c in range(k):
                for value in grid:
                    trial = offsets.copy()
                    trial[c] = value
                    score = _macro_f1(y, np.argmax(logp + trial, axis=1), k, weight)
                    if score > best + 1e-6:
                        best, offsets, improved = score, trial, True
            if not improved:
                break
        log.info("out-of-fold macro-F1 %.4f with offsets %s", best, np.round(offsets, 2).tolist())
        return offsets

    # ---- inference ------------------------------------------------------------------
    def _calibrate(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(scores @ self.calib_coef_.T + self.calib_intercept_)

    def _dense_weights(self) -> np.ndarray:
        """Coefficients as a dense (features x classes) float32 array: sparse x dense is fast."""
        dense = getattr(self, "_weights", None)
        if dense is None:
            dense = np.ascontiguousarray(self.coef_.T.toarray().astype(np.float32))
            self._weights = dense
        return dense

    @property
    def idf_key(self) -> str:
        """A digest of the IDF weights: models trained on the same texts share TF-IDF matrices."""
        return self._idf_keys()[0] + self._idf_keys()[1]

    def _idf_keys(self) -> tuple[str, str]:
        keys = getattr(self, "_idf_digests", None)
        if keys is None:
            keys = self._idf_digests = (hashlib.sha1(self.idf_word_.tobytes()).hexdigest(),
                                        hashlib.sha1(self.idf_char_.tobytes()).hexdigest())
        return keys

    def weighted(self, counts: tuple[sparse.csr_matrix, sparse.csr_matrix],
                 shared: dict | None = None) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """TF-IDF of both blocks, each reused from ``shared`` when another model has the
        same IDF for it (the character block's IDF is the same for every model trained on
        the same texts, with or without the lexicon)."""
        word_key, char_key = self._idf_keys()
        keys = (("tfidf-words", id(counts[0]), word_key, self.features.lexicon),
                ("tfidf-chars", id(counts[1]), char_key))
        out = []
        for i, key in enumerate(keys):
            block = shared.get(key) if shared is not None else None
            if block is None:
                block = (tfidf(self._words(counts), self.idf_word_) if i == 0
                         else tfidf(counts[1], self.idf_char_))
                if shared is not None:
                    shared[key] = block
            out.append(block)
        return out[0], out[1]

    def scores_from_counts(self, counts: tuple[sparse.csr_matrix, sparse.csr_matrix],
                           shared: dict | None = None) -> np.ndarray:
        xw, xc = self.weighted(counts, shared)
        weights = self._dense_weights()
        n_word = xw.shape[1]
        scores = xw @ weights[:n_word] + xc @ weights[n_word:]
        return np.asarray(scores, dtype=np.float64) + self.intercept_

    def predict_from_counts(self, counts: tuple[sparse.csr_matrix, sparse.csr_matrix],
                            shared: dict | None = None) -> tuple[list[str], np.ndarray]:
        """Labels and the full probability matrix (rows sum to 1) for precomputed counts."""
        proba = self._calibrate(self.scores_from_counts(counts, shared))
        pick = np.argmax(np.log(proba + 1e-12) + self.offsets_, axis=1)
        return [self.labels_[i] for i in pick], proba

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_from_counts(self.counts(texts))[1]

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self.predict_from_counts(self.counts(texts))[0]

    # ---- persistence ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "features": asdict(self.features), "C": getattr(self, "C_", self.C),
            "labels": self.labels_,
            "idf_word": self.idf_word_, "idf_char": self.idf_char_, "coef": self.coef_,
            "intercept": self.intercept_, "calib_coef": self.calib_coef_,
            "calib_intercept": self.calib_intercept_, "offsets": self.offsets_,
            "unsure_below": self.unsure_below_, "cv_macro_f1": self.cv_macro_f1_,
        }

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MODEL_FILE
        joblib.dump(self.state(), path, compress=("xz", 6))
        return path

    @classmethod
    def load(cls, directory: Path) -> LinearTextClassifier:
        path = directory / MODEL_FILE
        if not path.is_file():
            raise NlpError(f"no linear model in {directory}", where=str(path),
                           hint="train one with `iocwatch nlp train --backend linear`")
        try:
            st = joblib.load(path)
        except Exception as exc:  # joblib raises many types for a damaged file
            raise NlpError(f"cannot read linear model: {exc}", where=str(path),
                           hint="retrain the model or restore the file") from exc
        model = cls(FeatureConfig(**st["features"]), C=st["C"])
        model.labels_ = list(st["labels"])
        model.idf_word_ = st["idf_word"]
        model.idf_char_ = st["idf_char"]
        model.coef_ = st["coef"].tocsr()
        model.intercept_ = st["intercept"]
        model.calib_coef_ = st["calib_coef"]
        model.calib_intercept_ = st["calib_intercept"]
        model.offsets_ = st["offsets"]
        # models saved before the unsure threshold existed: no label is called unsure
        model.unsure_below_ = float(st.get("unsure_below", 0.0))
        model.cv_macro_f1_ = st.get("cv_macro_f1")
        return model
