"""The form definitions: pydantic models plus what the blank and the intake need to know."""
