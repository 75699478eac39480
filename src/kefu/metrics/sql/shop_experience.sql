-- The shop's composite score and gold-medal eligibility, over its figures and lines
-- (shop_lines: one row per shop).
-- C2 (assumed table): the response and satisfaction rates become scores; C1: the composite
-- weighs them :experience_weight_response : (1 - :experience_weight_response), and is the
-- response score alone when satisfaction is not assessed (S6). C3: gold medal needs the
-- score, the ratings and the satisfaction all at their lines.
WITH scored AS (
  SELECT
    *,
    :response_score AS experience_response_score,
    :satisfaction_score AS experience_satisfaction_score
  FROM shop_lines
), composite AS (
  SELECT
    *,
    CASE WHEN experience_response_score IS NULL THEN NULL
         WHEN satisfaction_assessed
           THEN :experience_weight_response * experience_response_score
                + (1 - :experience_weight_response) * experience_satisfaction_score
         ELSE experience_response_score END AS experience_score
  FROM scored
), gold AS (
  SELECT
    *,
    COALESCE(experience_score >= :gold_score_min, FALSE) AS gold_score_ok,
    (ratings >= :gold_ratings_min) AS gold_ratings_ok,
    COALESCE(satisfaction_rate >= :gold_satisfaction_min, FALSE) AS gold_satisfaction_ok
  FROM composite
)
SELECT *, (gold_score_ok AND gold_ratings_ok AND gold_satisfaction_ok) AS gold_medal
FROM gold
