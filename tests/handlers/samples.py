"""Sample task data for handler tests: a customer, a product and a fault as intake records them."""

CUSTOMER = {"name": "Li Wei", "phone": "+86 138 0013 8000", "email": "li.wei@example.cn", "tier": "normal",
            "language": "zh", "preferred_channel": "sms"}
PRODUCT = {"model": "WM-F80", "serial_number": "WMF80-2501-000123", "purchase_date": "2025-06-18",
           "proof_of_purchase": "JD-2025061812345"}
FAULT = {"description": "Water stays in the drum, display shows E21", "symptoms": ["not_draining", "error_code"]}
