"""Graph neural network node embeddings (GCN, GAT) on PyTorch Geometric."""
