"""The dlfs-zoo Gradio app (UI only: every model comes through ``zoo``)."""
