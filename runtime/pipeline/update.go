package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// UpdateContact applies fn to a copy of the contact on the contact's shard,
// between the conversation's steps, commits it, and returns it. Because the
// shard that runs the conversation makes the change, it is ordered with the
// conversation's messages and the shard's cached contact stays current. fn
// runs while the shard is held: it must be quick and must not call the
// pipeline. An error from fn is returned as is, and nothing changes.
func (p *Pipeline) UpdateContact(ctx context.Context, id string, fn func(c *flows.Contact) error) (*flows.Contact, error) {
	res, err := p.do(ctx, &job{contact: id, update: fn})
	if err != nil {
		return nil, err
	}
	return res.Contact, nil
}

// update runs an UpdateContact job.
func (sh *shard) update(ctx context.Context, j *job) (*Result, error) {
	p := sh.p
	st, err := sh.load(ctx, j.contact)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("%w %q", ErrNoContact, j.contact)
	}
	c := st.contact.Clone()
	if err := j.update(c); err != nil {
		return nil, err
	}
	c.ID = st.contact.ID
	c.UpdatedAt = p.cfg.Now()
	if err := p.committer.Submit(ctx, &store.Batch{Contact: c}); err != nil {
		sh.cache.drop(j.contact)
		return nil, fmt.Errorf("committing: %w", err)
	}
	st.contact = c
	if p.cfg.OnCommit != nil {
		p.cfg.OnCommit(Committed{Contact: c})
	}
	return &Result{Contact: c}, nil
}

// DeleteContact deletes a contact and everything of it (store.DeleteContact)
// on the contact's shard, between the conversation's steps, and forgets what
// the shard kept of it. A message that comes later starts a new contact.
func (p *Pipeline) DeleteContact(ctx context.Context, id string) error {
	_, err := p.do(ctx, &job{contact: id, remove: true})
	return err
}

// remove runs a DeleteContact job.
func (sh *shard) remove(ctx context.Context, j *job) error {
	sh.cache.drop(j.contact)
	err := sh.p.cfg.Store.DeleteContact(ctx, j.contact)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w %q", ErrNoContact, j.contact)
	}
	return err
}
