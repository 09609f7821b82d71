"""Hugging Face Spaces entry point (README front matter: app_file: app.py)."""

from demos.app import create_app, launch

demo = create_app()

if __name__ == "__main__":
    launch(demo)
