-- Four eyes for grid plans (issue 14): a plan records who drafted and who
-- applied it from their credentials (the user, and the drafter's region
-- then), so the apply can require an approver of a parent region who is
-- another user. created_by/applied_by stay the names the history shows.
-- A revert is one approver's immediate apply, marked as such.
ALTER TABLE grid_plans
    ADD COLUMN kind            text NOT NULL DEFAULT 'plan' CHECK (kind IN ('plan', 'revert')),
    ADD COLUMN created_by_user bigint REFERENCES users (id),
    ADD COLUMN created_region  text CHECK (created_region ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})?$'),
    ADD COLUMN applied_by_user bigint REFERENCES users (id),
    -- The database holds the line too: nobody applies their own plan.
    ADD CONSTRAINT grid_plans_four_eyes CHECK (kind = 'revert' OR applied_by_user IS NULL
        OR created_by_user IS NULL OR applied_by_user <> created_by_user);
