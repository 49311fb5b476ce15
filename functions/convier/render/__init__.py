"""Rendering, once per campaign: Jinja2, MJML, markdown, nh3, inscriptis, icalendar. Never on the send path."""
