"""Shared services of edugis: settings, database and migrations, models, accounts, errors."""
