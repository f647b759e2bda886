"""Fees, invoices (適格請求書), payments and cancellation fees."""
