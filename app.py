"""Hugging Face Spaces entry point (README front matter: app_file: app.py)."""

from demos.app import ARM_BRUSH_JS, create_app

demo = create_app()

if __name__ == "__main__":
    demo.launch(js=ARM_BRUSH_JS)
