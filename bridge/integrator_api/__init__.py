"""The integrator API (`/api/v1`): what practice software and hospital systems plug into."""
