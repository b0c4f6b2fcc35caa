"""Ask `shipyard serve` for predictions (docs/serving.md, "Client and batch prediction")."""

import os

from shipyard.client import Client, ServingError

url = os.environ.get("SHIPYARD_SERVER", "http://127.0.0.1:8501")
row = {"island": "Biscoe", "sex": "male", "bill_length_mm": 48.6}

with Client(url, timeout_s=10) as client:
    print(client.status("penguins"))  # [{'version': '1', 'state': 'AVAILABLE', ...}]
    print(client.predict("penguins", [row]))  # [{'class_ids': 1, 'probabilities': [...], ...}]
    print(client.predict("penguins", columns={"island": ["Dream"], "sex": [None]}))
    print(client.classify("penguins", [row]))  # [[('Adelie', 0.08), ('Gentoo', 0.9), ...]]
    try:
        client.predict("penguins", [{"island": 3, "sex": "male"}])
    except ServingError as error:
        print(error.status, error.server_message)  # 400 instances[0]['island'] must be ...
