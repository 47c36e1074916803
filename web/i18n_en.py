"""English text for the coded keys pages translate (``state:…``, ``action:…``, enum values)."""

EN: dict[str, str] = {
    "state:received": "Received", "state:in_progress": "In progress",
    "state:waiting_for_customer": "Waiting for your answer", "state:closed": "Completed",
    "state:cancelled": "Cancelled",
    "action:quote_response": "Accept or decline the quote",
    "action:customer_confirmation": "Confirm that the problem is solved",
    "action:survey_answered": "Tell us how we did",
    "milestone:received": "We received your request", "milestone:attached": "Your new contact was added to this request",
    "milestone:diagnosed": "Diagnosis done", "milestone:quote": "Quote sent", "milestone:approved": "Quote approved",
    "milestone:scheduled": "Appointment scheduled", "milestone:parts_delayed": "Parts delayed; we are chasing them",
    "milestone:repaired": "Repair done", "milestone:resolved": "Problem solved", "milestone:closed": "Request completed",
    "milestone:survey": "Survey sent", "milestone:cancelled": "Request cancelled",
    "milestone:escalated": "Escalated to a supervisor", "milestone:reminder": "Reminder",
    "milestone:answered:quote_response": "You answered the quote",
    "milestone:answered:customer_confirmation": "You confirmed the result",
    "milestone:answered:survey_answered": "You rated our service",
    "walk_in": "walk-in", "parts_only": "parts only", "no_power": "no power", "no_display": "no display",
    "error_code": "error code", "physical_damage": "physical damage", "wifi": "Wi-Fi", "vip": "VIP",
    "quote_response": "quote answer", "customer_confirmation": "customer confirmation",
    "survey_answered": "survey answer", "parts_arrived": "parts arrival", "device_received": "device arrival",
    "customer_cancel": "customer cancellation", "customer_contact": "repeat contact",
}
