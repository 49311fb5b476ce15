"""convier: invitations e-mail des administrations, rendues une fois, envoyées par SES.

Kept empty on purpose: the send path imports submodules one by one and must
not pay for the renderer (Jinja2, MJML, markdown) at cold start.
"""

__version__ = "0.1.0"
