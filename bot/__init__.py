"""Storybot: a storytelling chatbot whose core knows nothing of Telegram."""

__version__ = "0.1.0"
