"""What comes in and goes out: images, dictionaries, quadrilaterals, model files, results."""
