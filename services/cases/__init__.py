"""Cases: from an alert to a case file that holds up in court."""
