#!/usr/bin/python3
"""Tests of Scripts/check-contract and Scripts/check-conformance on copies of Protos/.

Run: /usr/bin/python3 Scripts/tests/test_contract_checks.py   (Scripts/test runs it)
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "Scripts", "check-contract")
COVERAGE = os.path.join(ROOT, "Scripts", "check-conformance")
GROUPS = os.path.join("marketplace", "users", "v1", "groups.proto")

# GetGroup as it stands in Protos/ (with its options), which the tests edit.
GET_GROUP_HEAD = "  rpc GetGroup(GetGroupRequest) returns (GetGroupResponse) {\n"
GET_GROUP = (GET_GROUP_HEAD
             + "    option idempotency_level = NO_SIDE_EFFECTS;\n"
             + '    option (marketplace.options.v1.access) = {rule: ACCESS_RULE_ACCOUNT_ADMINISTRATOR, target: "group_id", services: true};\n'
             + "  }\n")


class ContractCopy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.protos = os.path.join(self.tmp, "Protos")
        shutil.copytree(os.path.join(ROOT, "Protos"), self.protos)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def edit(self, relative, old, new):
        path = os.path.join(self.protos, relative)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text, "fixture text missing from %s" % relative)
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))

    def check(self, *extra):
        return subprocess.run([CHECK, "--protos", self.protos] + list(extra), capture_output=True, text=True)

    def assertFails(self, *fragments):
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)
        return result.stderr


class LockTests(ContractCopy):
    def test_the_committed_lock_matches(self):
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_renumbered_field_is_named(self):
        self.edit(GROUPS, "string description = 3;", "string description = 9;")
        self.assertFails("field marketplace.users.v1.CreateGroupRequest.description was renumbered from 3 to 9",
                         "wire-incompatible")

    def test_changed_type_and_label(self):
        self.edit(GROUPS, "string description = 3;", "bytes description = 3;")
        self.edit(GROUPS, "  bool is_default = 6;\n}\n\nmessage CreateGroupResponse",
                  "  repeated bool is_default = 6;\n}\n\nmessage CreateGroupResponse")
        self.assertFails("CreateGroupRequest.description changed type from string to bytes",
                         "CreateGroupRequest.is_default changed label from singular to repeated")

    def test_removed_field_without_reserved(self):
        self.edit(GROUPS, "  string description = 3;\n", "")
        self.assertFails("field marketplace.users.v1.CreateGroupRequest.description (number 3) was removed",
                         "without `reserved 3;`")
        # --update refuses a removal that leaves the number free for reuse.
        result = self.check("--update")
        self.assertEqual(result.returncode, 1)
        self.assertIn("refusing", result.stderr)

    def test_removed_field_with_reserved_can_be_recorded(self):
        self.edit(GROUPS, "  string description = 3;\n", "  reserved 3;\n  reserved \"description\";\n")
        self.assertFails("(its number is reserved)")
        self.assertEqual(self.check("--update").returncode, 0)
        self.assertEqual(self.check().returncode, 0)

    def test_reused_number(self):
        self.edit(GROUPS, "  string description = 3;\n", "  int64 budget = 3;\n")
        self.assertFails("field marketplace.users.v1.CreateGroupRequest.description (number 3) was removed and its "
                         "number reused by marketplace.users.v1.CreateGroupRequest.budget")

    def test_removed_rpc_and_enum_value(self):
        self.edit(GROUPS, GET_GROUP, "")
        self.edit(os.path.join("marketplace", "users", "v1", "resources.proto"), "  ACCOUNT_TYPE_VENDOR = 2;\n", "")
        self.assertFails("rpc marketplace.users.v1.Groups/GetGroup was removed",
                         "enum value marketplace.users.v1.AccountType.ACCOUNT_TYPE_VENDOR (number 2) was removed")

    def test_addition_needs_the_lock_updated(self):
        self.edit(GROUPS, "  bool is_default = 6;\n}\n\nmessage CreateGroupResponse",
                  "  bool is_default = 6;\n  string colour = 7;\n}\n\nmessage CreateGroupResponse")
        self.assertFails("added: field marketplace.users.v1.CreateGroupRequest.colour = 7 singular string", "--update")
        self.assertEqual(self.check("--update").returncode, 0)
        self.assertEqual(self.check().returncode, 0)

    def test_options_are_not_part_of_the_lock(self):
        options = os.path.join(self.protos, "marketplace", "access", "v1")
        os.makedirs(options)
        with open(os.path.join(options, "access.proto"), "w") as f:
            f.write('syntax = "proto3";\npackage marketplace.access.v1;\nimport "google/protobuf/descriptor.proto";\n'
                    "// Who may call a method.\nenum Rule {\n  RULE_UNSPECIFIED = 0;\n  RULE_EVERYONE = 1;\n}\n"
                    "extend google.protobuf.MethodOptions {\n  Rule rule = 50001;\n}\n")
        self.edit(GROUPS, 'import "marketplace/users/v1/resources.proto";',
                  'import "marketplace/users/v1/resources.proto";\nimport "marketplace/access/v1/access.proto";')
        self.edit(GROUPS, GET_GROUP_HEAD, GET_GROUP_HEAD + "    option (marketplace.access.v1.rule) = RULE_EVERYONE;\n")
        # Only the new file's own entries are additions; the rpc with an option is unchanged.
        stderr = self.assertFails("added: extension marketplace.access.v1.rule")
        self.assertNotIn("GetGroup", stderr)


class LintTests(ContractCopy):
    def test_rpc_without_errors_is_refused(self):
        self.edit(GROUPS, GET_GROUP,
                  GET_GROUP + "\n  // Archives a group.\n  rpc ArchiveGroup(ArchiveGroupRequest) returns (ArchiveGroupResponse);\n")
        with open(os.path.join(self.protos, GROUPS), "a") as f:
            f.write("\nmessage ArchiveGroupRequest {}\n\nmessage ArchiveGroupResponse {}\n")
        self.assertFails('rpc marketplace.users.v1.Groups/ArchiveGroup: its comment has no "Errors:" paragraph')

    def test_rpc_without_comment_and_shared_request(self):
        self.edit(GROUPS, GET_GROUP, GET_GROUP + "  rpc FetchGroup(GetGroupRequest) returns (GetGroupResponse);\n")
        self.assertFails("rpc marketplace.users.v1.Groups/FetchGroup has no comment",
                         "must take/return marketplace.users.v1.FetchGroupRequest",
                         "marketplace.users.v1.GetGroupRequest is used by more than one rpc")

    def test_names(self):
        self.edit(GROUPS, "string description = 3;", "string Description = 3;")
        self.edit(os.path.join("marketplace", "users", "v1", "resources.proto"), "ACCOUNT_TYPE_VENDOR = 2;", "VENDOR = 2;")
        with open(os.path.join(self.protos, GROUPS), "a") as f:
            f.write("\nmessage group_note {}\n")
        self.assertFails("field marketplace.users.v1.CreateGroupRequest.Description is not lower_snake_case",
                         "enum value marketplace.users.v1.AccountType.VENDOR",
                         "message marketplace.users.v1.group_note is not PascalCase")

    def test_unknown_status_code(self):
        self.edit(GROUPS, "NOT_FOUND when no group has it.", "NOT_FOUND when no group has it; GONE when deleted.")
        self.assertFails('"Errors:" names unknown status codes GONE')


class CoverageTests(ContractCopy):
    def coverage(self, tests):
        return subprocess.run([COVERAGE, "--protos", self.protos, "--tests", tests], capture_output=True, text=True)

    def test_the_tests_cover_every_promise(self):
        result = self.coverage(os.path.join(ROOT, "Tests"))
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_new_error_needs_a_test(self):
        self.edit(GROUPS, "NOT_FOUND when no group has it.", "NOT_FOUND when no group has it; PERMISSION_DENIED for "
                  "another account's group.")
        result = self.coverage(os.path.join(ROOT, "Tests"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("// contract: marketplace.users.v1.Groups/GetGroup PERMISSION_DENIED", result.stderr)

    def test_a_marker_naming_nothing_fails(self):
        tests = os.path.join(self.tmp, "Tests")
        shutil.copytree(os.path.join(ROOT, "Tests"), tests)
        with open(os.path.join(tests, "Stale.swift"), "w") as f:
            f.write("// contract: marketplace.users.v1.Groups/MergeGroups NOT_FOUND\n")
        result = self.coverage(tests)
        self.assertEqual(result.returncode, 1)
        self.assertIn("marketplace.users.v1.Groups/MergeGroups", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=1)
