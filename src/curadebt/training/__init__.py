"""Model training shared by the lab and trace: one loop (:mod:`curadebt.training.loop`)."""
