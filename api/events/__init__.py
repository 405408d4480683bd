"""Events from edge boxes as people read them: listing, detail, evidence, review, and evidence retention."""
