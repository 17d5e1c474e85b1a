"""Production: the operator's contact address must be real; logs less chatty."""

import os as _os

NEWSDESK_CONTACT = _os.environ.get("NEWSDESK_CONTACT", "newsdesk-operator@example.org")
USER_AGENT = f"newsdesk/0.1 (+mailto:{NEWSDESK_CONTACT}; Korean regional news archive)"
LOG_LEVEL = "INFO"
DOWNLOAD_DELAY = 1.0
