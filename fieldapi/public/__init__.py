"""What a customer opens without an account: the live tracking link of a visit, the
organization's booking page."""
