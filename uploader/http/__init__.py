"""The HTTP surface of `uploader run`: health, readiness, metrics, status and ingest."""

from uploader.http.app import build_app
from uploader.http.context import Service
from uploader.http.server import HttpServer

__all__ = ["HttpServer", "Service", "build_app"]
