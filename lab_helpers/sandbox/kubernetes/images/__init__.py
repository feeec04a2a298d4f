"""The sandbox registry's own files: Python stand-ins for images' programs (nginx), the launcher
that starts them in a container (``boot.py``), and the files images bring (nginx's pages and
configuration). They run inside containers, so they use the standard library only."""
