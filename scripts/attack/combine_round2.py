"""Joins round2.sh's tables for two binaries into one before/after table (markdown on standard output).

    python3 scripts/attack/combine_round2.py BEFORE.md AFTER.md
"""
import sys


def rows(path):
    table = {}
    for line in open(path, encoding='utf-8'):
        cells = [cell.strip() for cell in line.strip().strip('|').split(' | ')]
        if len(cells) == 6 and cells[0] not in ('class', '---'):
            table[(cells[0], cells[1])] = cells
    return table


before, after = rows(sys.argv[1]), rows(sys.argv[2])
print('| class | attack | command | before: exit | before: peak RSS | before: message | after: exit | after: peak RSS | after: message |')
print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for key, new in after.items():
    old = before.get(key, [''] * 6)
    print('| ' + ' | '.join(new[:3] + old[3:] + new[3:]) + ' |')
