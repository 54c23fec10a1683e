import { useState } from "react";
import { useMutation, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Modal from "@cloudscape-design/components/modal";
import Multiselect from "@cloudscape-design/components/multiselect";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import {
  CreatePermissionSetGroupDocument,
  DeletePermissionSetGroupDocument,
  PermissionSetGroupsDocument,
  UpdatePermissionSetGroupDocument,
  type PermissionSetGroupFieldsFragment,
} from "../../graphql/generated/graphql";
import { isAdmin, useMe } from "../../app/me";
import { useNotifications } from "../../app/notifications";
import { isResultError } from "../../lib/errors";
import { formatDateTime } from "../../lib/time";

type Editing = { group: PermissionSetGroupFieldsFragment | null } | null;

export function PermissionSetGroupsPage() {
  const admin = isAdmin(useMe());
  const { notify } = useNotifications();
  const [{ data, fetching, error }, refetch] = useQuery({ query: PermissionSetGroupsDocument });
  const [, remove] = useMutation(DeletePermissionSetGroupDocument);
  const [editing, setEditing] = useState<Editing>(null);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const items = data?.permissionSetGroups ?? [];

  const onDelete = async (g: PermissionSetGroupFieldsFragment) => {
    const res = await remove({ id: g.id });
    const out = res.data?.deletePermissionSetGroup;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The request failed." });
    else if (isResultError(out)) notify({ type: "error", header: `Could not delete ${g.name}`, content: out.message });
    else notify({ type: "success", content: `Permission set group ${g.name} deleted.` });
    reload();
  };

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description="Named bundles of permission sets, requested as one choice and granted as one assignment per permission set."
        >
          Permission set groups
        </Header>
      }
    >
      <Table
        variant="container"
        items={items}
        trackBy="id"
        loading={fetching && !data}
        loadingText="Loading groups"
        wrapLines
        ariaLabels={{ tableLabel: "Permission set groups" }}
        header={
          <Header
            counter={`(${items.length})`}
            actions={
              admin && (
                <Button variant="primary" onClick={() => setEditing({ group: null })}>
                  Create group
                </Button>
              )
            }
          >
            Groups
          </Header>
        }
        empty={
          <Box textAlign="center" color="inherit">
            {error ? error.message : "No permission set groups."}
          </Box>
        }
        columnDefinitions={[
          { id: "name", header: "Name", cell: (g) => g.name },
          { id: "description", header: "Description", cell: (g) => g.description || "-" },
          { id: "sets", header: "Permission sets", cell: (g) => g.permissionSets.join(", ") },
          { id: "updated", header: "Updated", cell: (g) => formatDateTime(g.updatedAt) },
          ...(admin
            ? [
                {
                  id: "actions",
                  header: "Actions",
                  cell: (g: PermissionSetGroupFieldsFragment) => (
                    <SpaceBetween direction="horizontal" size="xs">
                      <Button
                        variant="inline-link"
                        ariaLabel={`Edit group ${g.name}`}
                        onClick={() => setEditing({ group: g })}
                      >
                        Edit
                      </Button>
                      <Button variant="inline-link" ariaLabel={`Delete group ${g.name}`} onClick={() => onDelete(g)}>
                        Delete
                      </Button>
                    </SpaceBetween>
                  ),
                },
              ]
            : []),
        ]}
      />
      {editing && (
        <GroupModal
          group={editing.group}
          permissionSets={(data?.permissionSets ?? []).map((p) => p.name)}
          onClose={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
    </ContentLayout>
  );
}

function GroupModal({
  group,
  permissionSets,
  onClose,
}: {
  group: PermissionSetGroupFieldsFragment | null;
  permissionSets: string[];
  onClose: () => void;
}) {
  const { notify } = useNotifications();
  const [, create] = useMutation(CreatePermissionSetGroupDocument);
  const [, update] = useMutation(UpdatePermissionSetGroupDocument);
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const [sets, setSets] = useState<string[]>(group?.permissionSets ?? []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = "Enter a name.";
    if (!sets.length) found.permissionSets = "Choose at least one permission set.";
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    const input = { name: name.trim(), description, permissionSets: sets };
    const res = group ? await update({ id: group.id, input }) : await create({ input });
    setBusy(false);
    const out = res.data
      ? "updatePermissionSetGroup" in res.data
        ? res.data.updatePermissionSetGroup
        : res.data.createPermissionSetGroup
      : null;
    if (res.error || !out) return setFormError(res.error?.message ?? "The request failed.");
    if (isResultError(out)) {
      const key = out.field?.split(/[.[]/)[0];
      if (key === "name" || key === "permissionSets") setErrors({ [key]: out.message });
      else setFormError(out.message);
      return;
    }
    notify({ type: "success", content: `Permission set group ${name.trim()} saved.` });
    onClose();
  };

  return (
    <Modal visible onDismiss={onClose} header={group ? `Edit ${group.name}` : "Create permission set group"}>
      <Form
        errorText={formError}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={onClose}>
              Back
            </Button>
            <Button variant="primary" loading={busy} onClick={submit}>
              Save
            </Button>
          </SpaceBetween>
        }
      >
        <SpaceBetween size="m">
          <FormField label="Name" errorText={errors.name}>
            <Input value={name} onChange={(e) => setName(e.detail.value)} ariaLabel="Group name" />
          </FormField>
          <FormField label="Description">
            <Input value={description} onChange={(e) => setDescription(e.detail.value)} ariaLabel="Group description" />
          </FormField>
          <FormField label="Permission sets" errorText={errors.permissionSets}>
            <Multiselect
              selectedOptions={sets.map((s) => ({ value: s, label: s }))}
              onChange={(e) => setSets(e.detail.selectedOptions.map((o) => o.value!))}
              options={permissionSets.map((s) => ({ value: s, label: s }))}
              filteringType="auto"
              placeholder="Choose permission sets"
              ariaLabel="Permission sets"
            />
          </FormField>
        </SpaceBetween>
      </Form>
    </Modal>
  );
}
