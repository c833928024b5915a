"""Headers every answer carries: no sniffing, no framing, a Content-Security-Policy under which
only the site's own script files run, and HSTS when the service is served over HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import Flask
from flask import current_app
from flask import make_response
from werkzeug.wrappers import Response

View = TypeVar("View", bound=Callable[..., Any])

# Everything comes from this site: no inline script (the pages have none) or inline style, no
# plugins, no <base> to move relative links elsewhere, forms only to here, and no other site
# may frame a page. Images may also be data: URLs (the blank favicon).
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# An email shown in a sandboxed frame takes the policy of its page: there, its inline styles
# may apply (an email has no other kind), while scripts still never run.
EMAIL_PREVIEW_POLICY = {**POLICY, "style-src": "'self' 'unsafe-inline'"}
# Browsers keep to HTTPS for a year once they have seen the service over it.
HSTS = "max-age=31536000"


def _header(policy: dict[str, str]) -> str:
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    """Add the headers every answer gets, unless the view set its own."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", _header(POLICY))
    if str(current_app.config["BASE_URL"]).startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def shows_email(view: View) -> View:
    """Let the page of `view` show an email's HTML, inline styles and all, in its frame."""

    @wraps(view)
    def with_email_policy(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Content-Security-Policy"] = _header(EMAIL_PREVIEW_POLICY)
        return response

    return with_email_policy  # type: ignore[return-value]
