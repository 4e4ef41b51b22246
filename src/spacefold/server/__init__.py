"""The local web app (``spacefold serve``) and the built web viewer in ``static/``.

``static/viewer.js`` is built from ``web/`` (``cd web && npm ci && npm run build``) and
committed, so pip users need no Node.
"""
