"""Any painting in seconds: VGG-19 features of the photo given the painting's statistics, decoded.

The universal family of Li et al. 2017 (WCT) and Huang and Belongie 2017 (AdaIN): the photo's
relu4_1 features are whitened and coloured with the painting's mean and covariance (or given its
per-channel mean and spread), and a decoder trained on photos alone turns them back into a
picture. No training per painting; see ``nst.universal.paint``.
"""
