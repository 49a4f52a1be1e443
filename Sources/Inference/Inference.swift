// The Inference module; see README.md for how the modules fit together.
