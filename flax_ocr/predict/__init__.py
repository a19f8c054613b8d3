"""Reading: the predictors (recognizer, detector, direction), decoding and the OCR pipeline."""
