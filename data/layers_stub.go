package data

import "context"

func (s *seeder) events(ctx context.Context) error { return nil }
