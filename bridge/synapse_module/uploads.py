"""An upload over the cap gets Synapse's 413 `M_TOO_LARGE`, not a cut connection.

Synapse 1.163 sizes each listener's request-body limit to `max_upload_size`, and a body that
goes past it is cut (`forceAbortClient`) while it arrives — before Synapse's own check of the
declared `Content-Length`, which would have answered 413 `M_TOO_LARGE` ("request content is
too large"), gets to run. A client then shows a network error instead of "file too large".
Element checks `m.upload.size` first, but not every client does.

The module replaces `SynapseRequest.handleContentChunk` in the process it is loaded in: when
the request declared a `Content-Length` over the limit, the extra chunks are dropped (never
stored) so the request completes and Synapse answers its 413. Past `DISCARD_FACTOR` × the
limit the connection is cut as before, so a huge declared length cannot hold a connection
forever.
"""

from __future__ import annotations

from typing import Any

DISCARD_FACTOR = 2


def answer_oversized_uploads() -> None:
    """Patch Synapse's request class once per process."""
    from synapse.http.site import SynapseRequest

    original = SynapseRequest.handleContentChunk
    if getattr(original, "_confrere_guarded", False):
        return

    def handleContentChunk(self: Any, data: bytes) -> None:  # noqa: N802 - Twisted's name
        limit = self._max_request_body_size
        if self.content is not None and self.content.tell() + len(data) > limit:
            try:
                declared = self._get_content_length_from_headers()
            except Exception:  # noqa: BLE001 - a malformed header: Synapse's own handling
                declared = None
            if declared is not None and limit < declared <= DISCARD_FACTOR * limit:
                return  # dropped: `requestReceived` answers 413 M_TOO_LARGE
        original(self, data)

    handleContentChunk._confrere_guarded = True  # type: ignore[attr-defined]
    SynapseRequest.handleContentChunk = handleContentChunk
