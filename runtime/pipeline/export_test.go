package pipeline

// Queued returns how many jobs wait in the queue of the contact's shard.
func Queued(p *Pipeline, contact string) int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.shards[shardOf(contact, len(p.shards))].jobs)
}

// ShardOf is the index of the contact's shard.
func ShardOf(p *Pipeline, contact string) int { return shardOf(contact, p.cfg.Shards) }

// QueueCap is how many jobs a shard's queue holds.
const QueueCap = queueCap
