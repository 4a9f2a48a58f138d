-- A deadline for `accepted` (受理 → 派遣): a case accepted but never dispatched was
-- never escalated. The SLA monitor sets it from the time the case was accepted
-- (hub/cases/sla.py), so cases accepted before this migration get one too.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS dispatch_deadline timestamptz;
