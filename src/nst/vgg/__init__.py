"""VGG-19, the network every engine sees pictures through: layer names, weights, the extractor."""
