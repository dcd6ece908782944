"""Pure detection algorithms (numpy, scikit-learn); imports nothing else of HomeSafe."""
