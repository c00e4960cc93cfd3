"""dropfront: everything the Lambda functions need besides app.py."""
