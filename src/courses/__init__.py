"""The SME University course scheduling and enrollment service."""
