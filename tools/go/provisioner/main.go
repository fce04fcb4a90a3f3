// Command provisioner gives PersistentVolumeClaims of one StorageClass a hostPath
// PersistentVolume on the single node of the local cluster.
//
// It runs on the host (as root, with the admin kubeconfig), so it creates each
// volume's directory directly instead of through helper pods, which would need an
// image that cannot be pulled here. On a single node a hostPath volume serves
// ReadWriteOnce and ReadWriteMany alike, so both are accepted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const provisionedBy = "pv.kubernetes.io/provisioned-by"

type provisioner struct {
	client       kubernetes.Interface
	name         string
	storageClass string
	root         string
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "admin kubeconfig")
	name := flag.String("name", "codex.local/hostpath", "provisioner name, as in the StorageClass")
	storageClass := flag.String("storage-class", "codex-local", "StorageClass whose claims are served")
	root := flag.String("root", "", "directory holding the volumes (required)")
	interval := flag.Duration("interval", time.Second, "how often claims and volumes are reconciled")
	flag.Parse()
	if *root == "" {
		log.Fatal("--root is required")
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	p := provisioner{
		client:       kubernetes.NewForConfigOrDie(config),
		name:         *name,
		storageClass: *storageClass,
		root:         *root,
	}
	if err := os.MkdirAll(p.root, 0o755); err != nil {
		log.Fatal(err)
	}
	log.Printf("serving StorageClass %s as %s under %s", p.storageClass, p.name, p.root)
	// A periodic full reconcile is plenty for a one-node test cluster and, unlike a
	// watch, has no resume/resync state that could go stale across apiserver restarts.
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := p.reconcile(ctx); err != nil {
			log.Printf("reconcile: %v", err)
		}
		cancel()
		time.Sleep(*interval)
	}
}

func (p provisioner) reconcile(ctx context.Context) error {
	claims, err := p.client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range claims.Items {
		claim := &claims.Items[i]
		if p.wants(claim) {
			if err := p.provision(ctx, claim); err != nil {
				log.Printf("provision %s/%s: %v", claim.Namespace, claim.Name, err)
			}
		}
	}
	volumes, err := p.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range volumes.Items {
		volume := &volumes.Items[i]
		if p.released(volume) {
			if err := p.remove(ctx, volume); err != nil {
				log.Printf("delete %s: %v", volume.Name, err)
			}
		}
	}
	return nil
}

func (p provisioner) wants(claim *corev1.PersistentVolumeClaim) bool {
	return claim.Status.Phase == corev1.ClaimPending &&
		claim.Spec.VolumeName == "" &&
		claim.DeletionTimestamp == nil &&
		claim.Spec.StorageClassName != nil &&
		*claim.Spec.StorageClassName == p.storageClass
}

func (p provisioner) released(volume *corev1.PersistentVolume) bool {
	return volume.Annotations[provisionedBy] == p.name &&
		volume.Status.Phase == corev1.VolumeReleased &&
		volume.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete
}

// provision creates the directory and a PersistentVolume pre-bound to the claim; the
// PV controller then completes the binding.
func (p provisioner) provision(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(claim.UID)
	dir := filepath.Join(p.root, fmt.Sprintf("%s_%s_%s", claim.Namespace, claim.Name, claim.UID))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	// Any pod user may write: hostPath volumes ignore fsGroup, and the umask
	// trimmed the mode MkdirAll applied.
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	directory := corev1.HostPathDirectory
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{provisionedBy: p.name},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity: corev1.ResourceList{
				corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage],
			},
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              p.storageClass,
			VolumeMode:                    claim.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind:       "PersistentVolumeClaim",
				APIVersion: "v1",
				Namespace:  claim.Namespace,
				Name:       claim.Name,
				UID:        claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &directory},
			},
		},
	}
	_, err := p.client.CoreV1().PersistentVolumes().Create(ctx, volume, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		log.Printf("provisioned %s for %s/%s at %s", name, claim.Namespace, claim.Name, dir)
	}
	return err
}

func (p provisioner) remove(ctx context.Context, volume *corev1.PersistentVolume) error {
	if hp := volume.Spec.HostPath; hp != nil && filepath.Dir(hp.Path) == filepath.Clean(p.root) {
		if err := os.RemoveAll(hp.Path); err != nil {
			return err
		}
	}
	err := p.client.CoreV1().PersistentVolumes().Delete(ctx, volume.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		log.Printf("deleted %s", volume.Name)
	}
	return err
}
