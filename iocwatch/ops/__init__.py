"""Operations: continuous service, spikes, notifications, no-loss ingestion."""
