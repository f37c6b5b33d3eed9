package node

// StopProcessor stops the processor alone, as a fatal error would, leaving
// the rest of the node running.
func (n *Node) StopProcessor() { n.stopProc() }
