"""Who gets what: recipient lists, the selection and plan, signed tokens."""
