"""Stage 2, link: sources joined by individual ID into one failure matrix, everything left out counted.

`load` runs read → link for every command; `linking` joins and counts coverage; `stream_ids` codes IDs
one input at a time; `failures` is the failure rule (decision, label → failed or not); `reduce` is the
count by key that linking and the pattern table share; `pseudonymize` keys IDs before they leave a site.
"""
