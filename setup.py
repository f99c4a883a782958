"""Packages for setuptools: everything under bot/, plus the top-level stories/ folder shipped
inside the package as bot/sample_stories (the default catalogue), so git keeps one copy where
marketers find it. The rest of the configuration is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["bot", "bot.*"]), "bot.sample_stories"])
