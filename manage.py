#!/usr/bin/env python
import os
import sys


def main():
    # The command line defaults to the demo (as cookiecutter-django does); servers and workers
    # (config/wsgi.py, config/asgi.py, config/celery.py) default to production.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
