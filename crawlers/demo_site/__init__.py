"""The offline demo site (generated Vietnamese news and social posts) and its HTTP server."""

from crawlers.demo_site.generator import (
    DEMO_ENV,
    DemoContent,
    build_site,
    demo_sources,
    generate_content,
    serve_demo,
)
from crawlers.demo_site.server import Route, Site, SiteServer

__all__ = ["DEMO_ENV", "DemoContent", "Route", "Site", "SiteServer", "build_site", "demo_sources",
           "generate_content", "serve_demo"]
