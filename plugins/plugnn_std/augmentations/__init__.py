"""Standard data augmentations for channels-last images: random_shift, random_flip, random_erasing."""
