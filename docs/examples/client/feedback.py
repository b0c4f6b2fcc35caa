"""Send the true labels of served requests later (docs/monitoring.md, "Feedback and decay")."""

import os

from shipyard.client import Client

url = os.environ.get("SHIPYARD_SERVER", "http://127.0.0.1:8501")
row = {"island": "Biscoe", "sex": "male", "bill_length_mm": 48.6}

with Client(url, timeout_s=10) as client:
    print(client.predict("penguins", [row]))  # [{'class_labels': 'Gentoo', ...}]
    request_id = client.last_request_id  # the answer's X-Request-Id, in the request log too
    # ... later, once the penguin's species is known:
    print(client.feedback("penguins", [{"request_id": request_id, "label": "Gentoo"}]))
