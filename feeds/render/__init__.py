"""Rendering public documents: feeds assembled from cached entry fragments, OPML, HTML pages,
assets.

``renderer`` renders any public path (``Renderer``, ``Document``); ``formats`` is the registry
of feed formats; ``keys`` says what a document's bytes depend on. This package imports nothing
itself, and the renderers' libraries (feedgen, lxml, Jinja2) load when a document is first
rendered: a command with nothing to render (a build with nothing new) never pays for them.
"""
