"""Code shared by the chat's Lambda functions (packaged into every function zip)."""
