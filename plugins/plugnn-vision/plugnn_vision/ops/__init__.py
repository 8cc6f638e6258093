"""The numerics of the vision layers as pure functions on channels-last arrays ``(N, H, W, C)``.

They know nothing of plugnn's protocols, so they are tested on their own against naive loops.
"""
