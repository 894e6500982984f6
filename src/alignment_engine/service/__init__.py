"""The HTTP decision service: ``create_app(settings)`` builds the FastAPI application."""

from alignment_engine.service.app import app_from_environment, create_app
from alignment_engine.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "app_from_environment", "create_app"]
